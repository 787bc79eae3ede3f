import type { ClientReadableStream } from '@grpc/grpc-js';

/**
 * An async iterator over a server-streaming call's messages, fed by its 'data' events. A stream's
 * own async iterator (Readable[Symbol.asyncIterator]) costs several promises and stream-machinery
 * steps per message; this one resolves one pending `next()` per message, or hands over a message
 * that arrived before it was asked for, with no other allocation on the way. `map` turns wire
 * messages into events (undefined skips one) in the same step. Backpressure is kept: past
 * HIGH_WATER unread events the call is paused (HTTP/2 flow control then holds the engine back)
 * until the reader catches up.
 */
const HIGH_WATER = 256;

export function callEvents<M, E>(call: ClientReadableStream<M>, map: (msg: M) => E | undefined): AsyncIterableIterator<E> {
  const queued: E[] = [];
  let head = 0;
  let ended = false;
  let failure: unknown;
  let waiting: { resolve: (r: IteratorResult<E>) => void; reject: (err: unknown) => void } | undefined;
  let paused = false;

  const take = (): E => {
    const value = queued[head++];
    if (head === queued.length) {
      queued.length = 0;
      head = 0;
      if (paused) {
        paused = false;
        call.resume();
      }
    }
    return value;
  };

  const settle = (): void => {
    const w = waiting;
    if (!w) return;
    if (head < queued.length) {
      waiting = undefined;
      w.resolve({ value: take(), done: false });
    } else if (failure !== undefined) {
      waiting = undefined;
      w.reject(failure);
    } else if (ended) {
      waiting = undefined;
      w.resolve({ value: undefined, done: true });
    }
  };
  call.on('data', (msg: M) => {
    const ev = map(msg);
    if (ev === undefined) return;
    queued.push(ev);
    if (waiting) settle();
    else if (!paused && queued.length - head >= HIGH_WATER) {
      paused = true;
      call.pause();
    }
  });
  call.on('end', () => {
    ended = true;
    settle();
  });
  call.on('error', (err: unknown) => {
    failure = err ?? new Error('stream failed');
    settle();
  });

  const iterator: AsyncIterableIterator<E> = {
    next(): Promise<IteratorResult<E>> {
      if (head < queued.length) return Promise.resolve({ value: take(), done: false });
      if (failure !== undefined) return Promise.reject(failure);
      if (ended) return Promise.resolve({ value: undefined, done: true });
      return new Promise((resolve, reject) => (waiting = { resolve, reject }));
    },
    return(): Promise<IteratorResult<E>> {
      ended = true;
      queued.length = 0;
      head = 0;
      return Promise.resolve({ value: undefined, done: true });
    },
    [Symbol.asyncIterator]() {
      return iterator;
    },
  };
  return iterator;
}
