/**
 * Ed25519 signing of access tokens, on the calling thread or on worker threads.
 *
 * Signing is the largest single cost of an issuance (about a third of the token endpoint's CPU). With
 * `threads > 0` the signatures are computed on worker threads while the main thread goes on parsing requests,
 * deciding and writing the log: the signing inputs of all requests that reach the signer in one turn of the
 * event loop travel to a worker as one message, and their signatures come back as one message. The private key
 * goes to each worker once, as a KeyObject (structured clone inside the process; it never leaves the process).
 *
 * A worker that fails or exits is dropped and reported to `onError`; what it had in hand is signed on the
 * calling thread, so no request fails because a worker died. With no worker left, signing is inline.
 */
import { sign as cryptoSign, type KeyObject } from 'node:crypto';
import { Worker } from 'node:worker_threads';

/** Signs JWS signing inputs (RFC 7515 §5.1: `BASE64URL(header) "." BASE64URL(payload)`). */
export interface TokenSigner {
  /** The Ed25519 signature of `input` with `key`, base64url. */
  sign(input: string, key: KeyObject): Promise<string>;
  /** Worker threads in use or to start with the first signature (0: signing on the calling thread). */
  readonly threads: number;
  /** Stops the workers; later signatures are computed inline. */
  close(): Promise<void>;
}

/** How the signer is set up. */
export interface TokenSignerOptions {
  /** Worker threads to sign on; 0 signs on the calling thread. */
  threads: number;
  /** Most inputs in one message to a worker (default 256). */
  maxBatch?: number;
  /** Told when a worker fails; signing goes on. */
  onError?: (err: unknown) => void;
}

/** Signs inline: the signer used with `threads: 0`. */
function signInline(input: string, key: KeyObject): string {
  return cryptoSign(null, Buffer.from(input), key).toString('base64url');
}

// The worker's whole program. Messages in: { batch, keys?: [id, KeyObject][], items: [keyId, input][] };
// out: { batch, sigs: (string | null)[] } with null where signing threw (the caller then signs inline).
const WORKER_SOURCE = `
const { parentPort } = require('node:worker_threads');
const { sign } = require('node:crypto');
const keys = new Map();
parentPort.on('message', (m) => {
  if (m.keys) for (const [id, key] of m.keys) keys.set(id, key);
  const sigs = new Array(m.items.length);
  for (let i = 0; i < m.items.length; i++) {
    const [keyId, input] = m.items[i];
    try {
      sigs[i] = sign(null, Buffer.from(input), keys.get(keyId)).toString('base64url');
    } catch {
      sigs[i] = null;
    }
  }
  parentPort.postMessage({ batch: m.batch, sigs });
});
`;

interface Item {
  input: string;
  key: KeyObject;
  keyId: number;
  resolve: (sig: string) => void;
  reject: (err: unknown) => void;
}

interface SignerWorker {
  worker: Worker;
  /** Key ids this worker already holds. */
  keys: Set<number>;
  inFlight: Map<number, Item[]>;
}

/** Finishes items inline (their worker is gone or could not sign them). */
function signItemsInline(items: Item[]): void {
  for (const item of items) {
    try {
      item.resolve(signInline(item.input, item.key));
    } catch (err) {
      item.reject(err);
    }
  }
}

/**
 * Creates a signer.
 * @example
 * const signer = createTokenSigner({ threads: 1, onError });
 * const sig = await signer.sign(`${header}.${payload}`, privateKeyObject);
 */
export function createTokenSigner(options: TokenSignerOptions): TokenSigner {
  const maxBatch = Math.max(1, options.maxBatch ?? 256);
  const onError = options.onError ?? (() => undefined);
  const keyIds = new WeakMap<KeyObject, number>();
  let nextKeyId = 1;
  let nextBatch = 1;
  let turn = 0;
  let queue: Item[] = [];
  let scheduled = false;
  let workers: SignerWorker[] = [];

  const drop = (w: SignerWorker, err: unknown): void => {
    if (!workers.includes(w)) return;
    workers = workers.filter((x) => x !== w);
    onError(err);
    for (const items of w.inFlight.values()) signItemsInline(items);
    w.inFlight.clear();
    void w.worker.terminate();
  };

  const spawn = (): SignerWorker => {
    const worker = new Worker(WORKER_SOURCE, { eval: true });
    // The pool never keeps the process alive; close() stops it.
    worker.unref();
    const w: SignerWorker = { worker, keys: new Set(), inFlight: new Map() };
    worker.on('message', (m: { batch: number; sigs: Array<string | null> }) => {
      const items = w.inFlight.get(m.batch);
      if (!items) return;
      w.inFlight.delete(m.batch);
      items.forEach((item, i) => {
        const sig = m.sigs[i];
        if (typeof sig === 'string') item.resolve(sig);
        else signItemsInline([item]);
      });
    });
    worker.on('error', (err) => drop(w, err));
    worker.on('exit', (code) => drop(w, new Error(`token signing worker exited with code ${code}`)));
    return w;
  };

  // Workers start with the first signature, so a process that never signs (a CLI command) starts none.
  let wanted = Math.max(0, Math.trunc(options.threads));
  const ensureWorkers = (): void => {
    for (; wanted > 0; wanted--) workers.push(spawn());
  };

  const flush = (): void => {
    scheduled = false;
    while (queue.length > 0) {
      const items = queue.slice(0, maxBatch);
      queue = queue.slice(items.length);
      const w = workers[turn++ % Math.max(1, workers.length)];
      if (!w) {
        signItemsInline(items);
        continue;
      }
      const keys: Array<[number, KeyObject]> = [];
      for (const item of items) {
        if (!w.keys.has(item.keyId)) {
          w.keys.add(item.keyId);
          keys.push([item.keyId, item.key]);
        }
      }
      const batch = nextBatch++;
      w.inFlight.set(batch, items);
      try {
        w.worker.postMessage({
          batch,
          items: items.map((item) => [item.keyId, item.input]),
          ...(keys.length > 0 ? { keys } : {}),
        });
      } catch (err) {
        drop(w, err);
      }
    }
  };

  return {
    get threads() {
      return workers.length + wanted;
    },

    sign(input: string, key: KeyObject): Promise<string> {
      if (wanted > 0) ensureWorkers();
      if (workers.length === 0) {
        try {
          return Promise.resolve(signInline(input, key));
        } catch (err) {
          return Promise.reject(err);
        }
      }
      let keyId = keyIds.get(key);
      if (keyId === undefined) {
        keyId = nextKeyId++;
        keyIds.set(key, keyId);
      }
      const id = keyId;
      return new Promise<string>((resolve, reject) => {
        queue.push({ input, key, keyId: id, resolve, reject });
        if (!scheduled) {
          scheduled = true;
          // Inputs of requests handled in this turn of the event loop go out together.
          setImmediate(flush);
        }
      });
    },

    async close(): Promise<void> {
      wanted = 0;
      const stopping = workers;
      workers = [];
      for (const w of stopping) {
        w.worker.removeAllListeners('exit');
        for (const items of w.inFlight.values()) signItemsInline(items);
        w.inFlight.clear();
      }
      await Promise.all(stopping.map((w) => w.worker.terminate()));
    },
  };
}
