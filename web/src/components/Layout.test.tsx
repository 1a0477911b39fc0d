// @vitest-environment jsdom
import { afterEach, describe, expect, it } from 'vitest';
import { cleanup, fireEvent, render, screen } from '@testing-library/react';
import { MemoryRouter } from 'react-router';
import { AuthProvider } from '../lib/auth.js';
import { TOKEN_KEY } from '../lib/api.js';
import { Layout } from './Layout.js';

afterEach(() => {
  cleanup();
  sessionStorage.clear();
});

function renderLayout(path = '/') {
  return render(
    <AuthProvider>
      <MemoryRouter initialEntries={[path]}>
        <Layout>
          <p>page body</p>
        </Layout>
      </MemoryRouter>
    </AuthProvider>,
  );
}

describe('Layout', () => {
  it('names every page in the main navigation and marks the current one', () => {
    renderLayout('/findings');
    const nav = screen.getByRole('navigation', { name: 'Main' });
    const links = [...nav.querySelectorAll('a')].map((a) => a.textContent?.trim());
    expect(links).toEqual([
      'Overview',
      'Identities',
      'Findings',
      'Alerts',
      'Approvals',
      'Supply chain & scans',
      'Event log',
    ]);
    expect(screen.getByRole('link', { name: 'Findings' }).getAttribute('aria-current')).toBe('page');
    expect(screen.getByRole('link', { name: 'Overview' }).getAttribute('aria-current')).toBeNull();
  });

  it('switches the theme on the document and signs out by forgetting the token', () => {
    sessionStorage.setItem(TOKEN_KEY, 'kwa_test');
    renderLayout();
    const before = document.documentElement.dataset.theme;
    fireEvent.click(screen.getByRole('button', { name: /Use (dark|light) theme/ }));
    expect(document.documentElement.dataset.theme).not.toBe(before);
    fireEvent.click(screen.getByRole('button', { name: 'Sign out' }));
    expect(sessionStorage.getItem(TOKEN_KEY)).toBeNull();
  });
});
