import { ConfigError, helpText, loadConfig } from './config/load-config';
import { startGateway } from './gateway';

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  if (argv.includes('--help') || argv.includes('-h')) {
    process.stdout.write(`${helpText('npm start --')}\n`);
    return;
  }
  let config;
  try {
    config = loadConfig(argv);
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`${err.message}\n`);
      process.exit(2);
    }
    throw err;
  }
  let gateway;
  try {
    gateway = await startGateway(config);
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`${err.message}\n`);
      process.exit(2);
    }
    throw err;
  }
  let signals = 0;
  const onSignal = (signal: string): void => {
    signals++;
    if (signals > 1) process.exit(1);
    process.stderr.write(`${signal}: draining (grace ${config.shutdownGraceMs} ms)\n`);
    void gateway.shutdown().then(() => process.exit(0));
  };
  process.on('SIGTERM', () => onSignal('SIGTERM'));
  process.on('SIGINT', () => onSignal('SIGINT'));
}

main().catch((err) => {
  process.stderr.write(`gateway failed to start: ${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
});
