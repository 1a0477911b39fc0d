/** Sign-in state: the admin token in sessionStorage, checked against the server before it is kept. */
import { createContext, useCallback, useContext, useEffect, useMemo, useState } from 'react';
import type { ReactNode } from 'react';
import { checkToken, getToken, onUnauthorized, setToken } from './api.js';
import { startStream, stopStream } from './stream.js';

interface Auth {
  signedIn: boolean;
  /** Checks the token with the server; resolves to an error message, or null when signed in. */
  signIn: (token: string) => Promise<string | null>;
  signOut: () => void;
}

const AuthContext = createContext<Auth | null>(null);

export function AuthProvider({ children }: { children: ReactNode }) {
  const [signedIn, setSignedIn] = useState(() => getToken() !== null);

  const signOut = useCallback(() => {
    stopStream();
    setToken(null);
    setSignedIn(false);
  }, []);

  const signIn = useCallback(async (raw: string): Promise<string | null> => {
    const token = raw.trim();
    if (!token) return 'Enter the admin token.';
    try {
      if (!(await checkToken(token))) return 'The server did not accept this token.';
    } catch (e) {
      return e instanceof Error ? e.message : String(e);
    }
    setToken(token);
    setSignedIn(true);
    return null;
  }, []);

  useEffect(() => onUnauthorized(signOut), [signOut]);
  useEffect(() => {
    if (signedIn) startStream();
  }, [signedIn]);

  const value = useMemo(() => ({ signedIn, signIn, signOut }), [signedIn, signIn, signOut]);
  return <AuthContext.Provider value={value}>{children}</AuthContext.Provider>;
}

export function useAuth(): Auth {
  const auth = useContext(AuthContext);
  if (!auth) throw new Error('useAuth outside AuthProvider');
  return auth;
}
