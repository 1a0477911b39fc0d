/** Sign-in with the admin token (`keyward serve` prints where it is kept). */
import { useState } from 'react';
import type { FormEvent } from 'react';
import { KeyRound } from 'lucide-react';
import { useAuth } from '../lib/auth.js';

export function SignIn() {
  const { signIn } = useAuth();
  const [token, setToken] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  async function submit(e: FormEvent) {
    e.preventDefault();
    setBusy(true);
    setError(await signIn(token));
    setBusy(false);
  }

  return (
    <main className="signin" id="main">
      <form className="card signin-card" onSubmit={submit} aria-describedby="signin-help">
        <h1>
          <KeyRound aria-hidden size={24} /> Keyward
        </h1>
        <p id="signin-help">
          Sign in with the admin token. <code>keyward serve</code> prints the file it is kept in; it stays in
          this tab only.
        </p>
        <label htmlFor="token">Admin token</label>
        <input
          id="token"
          name="token"
          type="password"
          autoComplete="off"
          autoFocus
          value={token}
          onChange={(e) => setToken(e.target.value)}
          aria-invalid={error !== null}
          aria-errormessage={error ? 'signin-error' : undefined}
        />
        {error && (
          <p id="signin-error" className="error" role="alert">
            {error}
          </p>
        )}
        <button className="button" type="submit" disabled={busy}>
          {busy ? 'Checking…' : 'Sign in'}
        </button>
      </form>
    </main>
  );
}
