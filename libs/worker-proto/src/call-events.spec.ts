import { EventEmitter } from 'node:events';
import { describe, expect, it } from 'vitest';
import { callEvents } from './call-events';

/** A stand-in for a grpc-js server-streaming call: an emitter that records pause/resume. */
class FakeCall extends EventEmitter {
  paused = false;
  pause(): this {
    this.paused = true;
    return this;
  }
  resume(): this {
    this.paused = false;
    return this;
  }
}

const asCall = (c: FakeCall) => c as never;

describe('callEvents', () => {
  it('yields mapped messages in order, skipping unmapped ones, whether they arrive before or after next()', async () => {
    const call = new FakeCall();
    const it = callEvents<number, string>(asCall(call), (m) => (m % 2 === 0 ? `e${m}` : undefined));
    call.emit('data', 0);
    call.emit('data', 1);
    call.emit('data', 2);
    expect(await it.next()).toEqual({ value: 'e0', done: false });
    expect(await it.next()).toEqual({ value: 'e2', done: false });
    const pending = it.next();
    call.emit('data', 4);
    expect(await pending).toEqual({ value: 'e4', done: false });
    call.emit('end');
    expect(await it.next()).toEqual({ value: undefined, done: true });
  });

  it('delivers queued messages before the error that followed them', async () => {
    const call = new FakeCall();
    const it = callEvents<number, number>(asCall(call), (m) => m);
    call.emit('data', 1);
    call.emit('error', new Error('UNAVAILABLE'));
    expect(await it.next()).toEqual({ value: 1, done: false });
    await expect(it.next()).rejects.toThrow('UNAVAILABLE');
    const pending = callEvents<number, number>(asCall((() => { const c = new FakeCall(); setImmediate(() => c.emit('error', new Error('late'))); return c; })()), (m) => m).next();
    await expect(pending).rejects.toThrow('late');
  });

  it('pauses the call when the reader falls far behind and resumes it once drained', async () => {
    const call = new FakeCall();
    const it = callEvents<number, number>(asCall(call), (m) => m);
    for (let i = 0; i < 300; i++) call.emit('data', i);
    expect(call.paused).toBe(true);
    for (let i = 0; i < 300; i++) expect((await it.next()).value).toBe(i);
    expect(call.paused).toBe(false);
  });
});
