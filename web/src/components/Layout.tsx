/** The frame of every signed-in page: a skip link, the navigation, the theme switch and sign-out. */
import { useState } from 'react';
import type { ReactNode } from 'react';
import { NavLink } from 'react-router';
import {
  Activity,
  Bell,
  CheckSquare,
  KeyRound,
  LayoutDashboard,
  LogOut,
  Menu,
  Moon,
  PackageSearch,
  ShieldAlert,
  Sun,
  Users,
} from 'lucide-react';
import { useAuth } from '../lib/auth.js';
import { useTheme } from '../lib/theme.js';

const NAV = [
  { to: '/', label: 'Overview', icon: LayoutDashboard, end: true },
  { to: '/identities', label: 'Identities', icon: Users },
  { to: '/findings', label: 'Findings', icon: ShieldAlert },
  { to: '/alerts', label: 'Alerts', icon: Bell },
  { to: '/approvals', label: 'Approvals', icon: CheckSquare },
  { to: '/scans', label: 'Supply chain & scans', icon: PackageSearch },
  { to: '/events', label: 'Event log', icon: Activity },
] as const;

export function Layout({ children }: { children: ReactNode }) {
  const { signOut } = useAuth();
  const [theme, toggleTheme] = useTheme();
  const [menuOpen, setMenuOpen] = useState(false);
  return (
    <div className="shell">
      <a className="skip-link" href="#main">
        Skip to content
      </a>
      <header className="topbar">
        <button
          className="icon-button menu-button"
          aria-label="Menu"
          aria-expanded={menuOpen}
          aria-controls="sidebar"
          onClick={() => setMenuOpen((o) => !o)}
        >
          <Menu aria-hidden size={20} />
        </button>
        <span className="brand">
          <KeyRound aria-hidden size={20} /> Keyward
        </span>
        <span className="spacer" />
        <button
          className="icon-button"
          onClick={toggleTheme}
          aria-label={theme === 'dark' ? 'Use light theme' : 'Use dark theme'}
          title={theme === 'dark' ? 'Light theme' : 'Dark theme'}
        >
          {theme === 'dark' ? <Sun aria-hidden size={18} /> : <Moon aria-hidden size={18} />}
        </button>
        <button className="button secondary" onClick={signOut}>
          <LogOut aria-hidden size={16} /> Sign out
        </button>
      </header>
      <nav id="sidebar" className={`sidebar${menuOpen ? ' open' : ''}`} aria-label="Main">
        <ul>
          {NAV.map(({ to, label, icon: Icon, ...rest }) => (
            <li key={to}>
              <NavLink to={to} end={'end' in rest} onClick={() => setMenuOpen(false)}>
                <Icon aria-hidden size={18} /> {label}
              </NavLink>
            </li>
          ))}
        </ul>
      </nav>
      <main id="main" className="content" tabIndex={-1}>
        {children}
      </main>
    </div>
  );
}
