/**
 * `npm run -s keygen`: prints a fresh secret (32 random bytes, base64) for --admin-key, --api-key or
 * --mesh-key. Nothing else is printed, so `export DROVER_ADMIN_KEY=$(npm run -s keygen)` works.
 *
 * Node identities (docs/SECURITY.md):
 * - `keygen identity-authority` prints the authority's public key (line 1, for
 *   --mesh-identity-authority on every node) and private key (line 2: keep it offline).
 * - `keygen identity NAME` prints NAME's credential (for --mesh-identity), signed with the private
 *   key read from DROVER_MESH_IDENTITY_AUTHORITY_PRIVATE (not an argument: arguments show in ps).
 */
import { randomBytes } from 'node:crypto';
import { generateIdentityAuthority, issueIdentity } from '@drover/swim';

const [command, name] = process.argv.slice(2);
if (command === undefined) {
  process.stdout.write(`${randomBytes(32).toString('base64')}\n`);
} else if (command === 'identity-authority') {
  const { publicKey, privateKey } = generateIdentityAuthority();
  process.stdout.write(`${publicKey}\n${privateKey}\n`);
} else if (command === 'identity' && name) {
  const authority = process.env.DROVER_MESH_IDENTITY_AUTHORITY_PRIVATE;
  if (!authority) {
    process.stderr.write('keygen identity NAME: set DROVER_MESH_IDENTITY_AUTHORITY_PRIVATE to the authority private key (line 2 of `keygen identity-authority`)\n');
    process.exit(2);
  }
  process.stdout.write(`${issueIdentity(authority, name)}\n`);
} else {
  process.stderr.write('usage: keygen | keygen identity-authority | keygen identity NAME\n');
  process.exit(2);
}
