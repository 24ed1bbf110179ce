// The frame of every signed-in page: a skip link, the site header with navigation, who is signed
// in, whether live updates are flowing, and sign-out.
import type { ComponentChildren } from 'preact';
import { useRef, useState } from 'preact/hooks';
import { useLocation } from 'preact-iso/router';
import { BASE, type Session } from '../api.ts';
import { useLiveState } from '../live.ts';
import { timeZone } from '../format.ts';
import { NavSectionContext, type NavSection } from '../nav-section.ts';
import { useNavScroll } from '../nav-scroll.ts';

/** A bot's page belongs to Upcoming or Ended by the bot's status, which the page reports (nav-section.ts). */
const isBotPath = (path: string) => path.startsWith(`${BASE}/bots/`);

const NAV: { href: string; label: string; match: (path: string, section: NavSection | null) => boolean }[] = [
  { href: `${BASE}`, label: 'Upcoming', match: (path, section) => path === BASE || path === `${BASE}/` || (isBotPath(path) && section === 'upcoming') },
  { href: `${BASE}/ended`, label: 'Ended', match: (path, section) => path.startsWith(`${BASE}/ended`) || (isBotPath(path) && section === 'ended') },
  { href: `${BASE}/events`, label: 'Events', match: (path: string) => path.startsWith(`${BASE}/events`) },
  { href: `${BASE}/calendars`, label: 'Calendars', match: (path: string) => path.startsWith(`${BASE}/calendars`) },
  { href: `${BASE}/webhooks`, label: 'Webhooks', match: (path: string) => path.startsWith(`${BASE}/webhooks`) },
];

const LIVE_WORDS = { connecting: 'Connecting…', live: 'Live', reconnecting: 'Reconnecting…', off: 'Not live' } as const;

export function Layout({ session, notice, onSignOut, children }: { session: Session; notice?: string | null; onSignOut: () => void; children: ComponentChildren }) {
  const { path } = useLocation();
  const live = useLiveState();
  const [section, setSection] = useState<NavSection | null>(null);
  const nav = useRef<HTMLElement>(null);
  const navList = useRef<HTMLUListElement>(null);
  // On a narrow screen the navigation scrolls sideways: a fade marks each edge with more beyond
  // it (its width is the fade's, styles.css), and the current page's item is kept in view.
  const navEdges = useNavScroll(navList, () => (nav.current ? Number.parseFloat(getComputedStyle(nav.current, '::after').width) || 0 : 0), `${path} ${section}`, 'a[aria-current="page"]');

  return (
    <div class="shell">
      <a class="skip-link" href="#main">Skip to content</a>
      <header class="site-header">
        <div class="site-header-row">
          <a class="brand" href={BASE}>Rollcall</a>
          <span class={`live live-${live}`} role="status" aria-live="polite" title="Status changes appear without reloading while this says Live">
            <span class="live-dot" aria-hidden="true"></span>{LIVE_WORDS[live]}
          </span>
          <span class="user">
            <span class="user-name"><span class="user-name-words">Signed in as </span><strong title={session.user.name}>{session.user.name}</strong></span>
            <button type="button" class="button button-quiet" onClick={onSignOut}>Sign out</button>
          </span>
        </div>
        <nav class="site-nav" aria-label="Main" ref={nav} data-more-before={navEdges.before ? '' : undefined} data-more-after={navEdges.after ? '' : undefined}>
          <ul ref={navList}>
            {NAV.map((item) => (
              <li key={item.href}>
                <a href={item.href} aria-current={item.match(path, section) ? 'page' : undefined}>{item.label}</a>
              </li>
            ))}
          </ul>
        </nav>
      </header>
      <main id="main" tabIndex={-1}>
        <p class={`notice ${notice ? 'notice-info' : 'notice-none'}`} role="status" data-testid="session-notice">{notice ?? ''}</p>
        <NavSectionContext.Provider value={setSection}>{children}</NavSectionContext.Provider>
      </main>
      <footer class="site-footer">Times are shown in {timeZone}. <a href="/docs">API reference</a></footer>
    </div>
  );
}
