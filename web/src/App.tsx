/** Routes of the dashboard; everything but sign-in needs the admin token. */
import { lazy, Suspense } from 'react';
import { BrowserRouter, Route, Routes } from 'react-router';
import { Layout } from './components/Layout.js';
import { AuthProvider, useAuth } from './lib/auth.js';
// In the main bundle (not lazy): the landing page and the identity list, so neither waits for a chunk and
// React's Suspense reveal throttle (up to 300 ms) never delays their first paint.
import { Identities } from './pages/Identities.js';
import { Overview } from './pages/Overview.js';
import { SignIn } from './pages/SignIn.js';

const IdentityDetail = lazy(() =>
  import('./pages/IdentityDetail.js').then((m) => ({ default: m.IdentityDetail })),
);
const Findings = lazy(() => import('./pages/Findings.js').then((m) => ({ default: m.Findings })));
const Alerts = lazy(() => import('./pages/Alerts.js').then((m) => ({ default: m.Alerts })));
const AlertDetail = lazy(() => import('./pages/AlertDetail.js').then((m) => ({ default: m.AlertDetail })));
const Approvals = lazy(() => import('./pages/Approvals.js').then((m) => ({ default: m.Approvals })));
const Scans = lazy(() => import('./pages/Scans.js').then((m) => ({ default: m.Scans })));
const Events = lazy(() => import('./pages/Events.js').then((m) => ({ default: m.Events })));

function NotFound() {
  return (
    <section>
      <h1>Not found</h1>
      <p>There is no page at this address.</p>
    </section>
  );
}

function Pages() {
  const { signedIn } = useAuth();
  if (!signedIn) return <SignIn />;
  return (
    <Layout>
      <Suspense fallback={<p className="muted">Loading…</p>}>
        <Routes>
          <Route path="/" element={<Overview />} />
          <Route path="/identities" element={<Identities />} />
          <Route path="/identities/:id" element={<IdentityDetail />} />
          <Route path="/findings" element={<Findings />} />
          <Route path="/alerts" element={<Alerts />} />
          <Route path="/alerts/:id" element={<AlertDetail />} />
          <Route path="/approvals" element={<Approvals />} />
          <Route path="/scans" element={<Scans />} />
          <Route path="/events" element={<Events />} />
          <Route path="*" element={<NotFound />} />
        </Routes>
      </Suspense>
    </Layout>
  );
}

export function App() {
  return (
    <AuthProvider>
      <BrowserRouter>
        <Pages />
      </BrowserRouter>
    </AuthProvider>
  );
}
