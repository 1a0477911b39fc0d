/**
 * Seeded pseudo-random numbers and obviously fake secret values for the demo company and the benchmarks.
 * Nothing here is random between runs: the same seed always yields the same sequence, so fingerprints of
 * the demo's secrets are stable and loading the demo twice changes nothing.
 */

/** A deterministic random source (sfc32 seeded from a string). */
export interface Prng {
  /** A float in [0, 1). */
  next(): number;
  /** An integer in [min, max] (both inclusive). */
  int(min: number, max: number): number;
  /** True with probability p. */
  chance(p: number): boolean;
  /** One element of a non-empty list. */
  pick<T>(items: readonly T[]): T;
  /** `length` characters drawn from `alphabet`. */
  chars(length: number, alphabet?: string): string;
}

const ALNUM = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
const UPPER_ALNUM = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
const HEX = '0123456789abcdef';

/** 32-bit FNV-1a of a string with a salt, used to turn a seed string into the generator's state words. */
function fnv1a(text: string, salt: number): number {
  let h = (0x811c9dc5 ^ salt) >>> 0;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h;
}

/** Creates a generator whose sequence depends only on `seed`. */
export function createPrng(seed: string): Prng {
  let a = fnv1a(seed, 1);
  let b = fnv1a(seed, 2);
  let c = fnv1a(seed, 3);
  let d = fnv1a(seed, 4);
  const next = (): number => {
    // sfc32 (Chris Doty-Humphrey's Small Fast Counting generator), 32-bit state words.
    a >>>= 0;
    b >>>= 0;
    c >>>= 0;
    d >>>= 0;
    let t = (a + b) | 0;
    a = b ^ (b >>> 9);
    b = (c + (c << 3)) | 0;
    c = (c << 21) | (c >>> 11);
    d = (d + 1) | 0;
    t = (t + d) | 0;
    c = (c + t) | 0;
    return (t >>> 0) / 4294967296;
  };
  for (let i = 0; i < 12; i++) next();
  const prng: Prng = {
    next,
    int: (min, max) => min + Math.floor(next() * (max - min + 1)),
    chance: (p) => next() < p,
    pick: <T>(items: readonly T[]): T => items[Math.floor(next() * items.length)]!,
    chars: (length, alphabet = ALNUM) => {
      let out = '';
      for (let i = 0; i < length; i++) out += alphabet[Math.floor(next() * alphabet.length)];
      return out;
    },
  };
  return prng;
}

/** The shapes of fake secret the demo and the benchmark generate. */
export type FakeSecretKind =
  | 'openai-key'
  | 'anthropic-key'
  | 'github-classic-pat'
  | 'github-fine-grained-pat'
  | 'aws-access-key-id'
  | 'k8s-sa-token'
  | 'slack-bot-token'
  | 'password'
  | 'basic-auth'
  | 'certificate-thumbprint'
  | 'ssh-key-fingerprint'
  | 'webhook-secret'
  | 'connection-string'
  | 'private-key'
  | 'generic-api-key';

/** A generated fake secret: the full value and its random core (the part that must never leak). */
export interface FakeSecret {
  value: string;
  /** The random characters inside the value; a leak check looks for these too. */
  core: string;
}

/**
 * Builds an obviously fake secret of the given kind from a label: the same label always gives the same value.
 * Every value carries a `FAKE` or `EXAMPLE` marker, so it can never be mistaken for a live credential.
 */
export function fakeSecret(kind: FakeSecretKind, label: string): FakeSecret {
  const r = createPrng(`keyward-demo-secret:${kind}:${label}`);
  switch (kind) {
    case 'openai-key': {
      const core = r.chars(40);
      return { value: `sk-proj-FAKE${core}`, core };
    }
    case 'anthropic-key': {
      const core = r.chars(48);
      return { value: `sk-ant-api03-FAKE${core}`, core };
    }
    case 'github-classic-pat': {
      const core = r.chars(32);
      return { value: `ghp_FAKE${core}`, core };
    }
    case 'github-fine-grained-pat': {
      const core = r.chars(48);
      return { value: `github_pat_FAKE${core}`, core };
    }
    case 'aws-access-key-id': {
      // AWS's documentation writes example key ids as AKIA…EXAMPLE; this keeps that marker.
      const core = r.chars(9, UPPER_ALNUM);
      return { value: `AKIA${core}EXAMPLE`, core };
    }
    case 'k8s-sa-token': {
      const core = r.chars(64);
      return { value: `eyJhbGciOiJSUzI1NiIsImtpZCI6IkZBS0UifQ.FAKE${core}`, core };
    }
    case 'slack-bot-token': {
      const core = r.chars(24);
      return { value: `xoxb-FAKE-${r.chars(10, '0123456789')}-${core}`, core };
    }
    case 'password': {
      const core = r.chars(20);
      return { value: `FAKE-pw-${core}`, core };
    }
    case 'basic-auth': {
      const core = r.chars(20);
      const user = `svc-${r.chars(6, 'abcdefghijklmnopqrstuvwxyz')}`;
      return { value: `Basic ${Buffer.from(`${user}:FAKE-${core}`).toString('base64')}`, core };
    }
    case 'certificate-thumbprint': {
      const core = r.chars(56, HEX);
      return { value: `sha256:fake${core}`, core };
    }
    case 'ssh-key-fingerprint': {
      const core = r.chars(39);
      return { value: `SHA256:FAKE${core}`, core };
    }
    case 'webhook-secret': {
      const core = r.chars(32);
      return { value: `whsec_FAKE${core}`, core };
    }
    case 'connection-string': {
      const core = r.chars(24);
      return { value: `postgres://mcp_reader:FAKE-${core}@db.example.invalid:5432/warehouse`, core };
    }
    case 'private-key': {
      const core = r.chars(64);
      return {
        value: `-----BEGIN FAKE PRIVATE KEY-----\nEXAMPLE${core}\n-----END FAKE PRIVATE KEY-----`,
        core,
      };
    }
    case 'generic-api-key': {
      const core = r.chars(32);
      return { value: `demo_FAKE_${core}`, core };
    }
  }
}
