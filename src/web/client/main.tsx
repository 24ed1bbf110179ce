// The dashboard: a sign-in page, then the pages of the signed-in user. Every read and action goes
// through /api/v1, as for any other client; see docs/dashboard.md.
import './styles.css';
import { render } from 'preact';
import { useEffect, useRef, useState } from 'preact/hooks';
import { LocationProvider, Route, Router } from 'preact-iso/router';
import { BASE, loadSession, signOut, whenSessionChanged, whenSignedOut, type Session } from './api.ts';
import { startLive, stopLive } from './live.ts';
import { Layout } from './components/layout.tsx';
import { Loading, ErrorState } from './components/states.tsx';
import { SignInPage } from './pages/sign-in.tsx';
import { UpcomingPage } from './pages/upcoming.tsx';
import { BotPage } from './pages/bot.tsx';
import { CalendarsPage } from './pages/calendars.tsx';
import { EventsPage } from './pages/events.tsx';
import { WebhooksPage } from './pages/webhooks.tsx';
import { NotFoundPage } from './pages/not-found.tsx';

/** After a page change, focus its heading so screen readers announce where the user is. */
function focusHeading(): void {
  setTimeout(() => {
    const heading = document.querySelector<HTMLElement>('main h1');
    if (heading) {
      heading.tabIndex = -1;
      heading.focus({ preventScroll: true });
      document.title = `${heading.textContent ?? 'Dashboard'} · Rollcall`;
    }
  }, 0);
}

/** Why the sign-in page shows again, when a session this page held is gone. */
const SESSION_ENDED = 'Your session ended: it expired, was signed out in another tab, or its API key was revoked. Sign in again to go on.';
const SIGNED_OUT = 'You are signed out.';

function App() {
  const [session, setSession] = useState<Session | null | undefined>(undefined);
  const [failure, setFailure] = useState<Error | null>(null);
  const [notice, setNotice] = useState<string | null>(null);
  /** Whether this page held a live session (so that losing it is told, where a first visit is not). */
  const hadSession = useRef(false);
  const endSession = (why: string) => {
    stopLive();
    if (hadSession.current) setNotice(why);
    hadSession.current = false;
    setSession(null);
  };
  const load = () => loadSession().then((s) => {
    setFailure(null);
    if (s === null) endSession(SESSION_ENDED);
    else setSession(s);
  }, (error: Error) => setFailure(error));
  useEffect(() => {
    void load();
    whenSignedOut(() => endSession(SESSION_ENDED));
    whenSessionChanged(() => void load());
  }, []);
  useEffect(() => {
    if (session) {
      hadSession.current = true;
      startLive(() => void load());
    } else stopLive();
  }, [session]);

  if (failure) return <main id="main" class="centered"><h1>Rollcall</h1><ErrorState error={failure} onRetry={() => void load()} /></main>;
  if (session === undefined) return <main id="main" class="centered"><Loading what="the dashboard" /></main>;
  if (session === null) return <SignInPage notice={notice} onSignedIn={(s) => { setNotice(null); setSession(s); focusHeading(); }} />;
  return (
    <Layout session={session} onSignOut={async () => {
      try {
        await signOut();
      } catch (error) {
        // Still signed in: say so rather than show the sign-in page over a live session.
        setFailure(new Error(`Sign-out failed: ${(error as Error).message}`));
        return;
      }
      endSession(SIGNED_OUT);
      // Said even when a request refused meanwhile (401) ended the session first.
      setNotice(SIGNED_OUT);
    }}>
      <Router onRouteChange={focusHeading}>
        <Route path={BASE} component={UpcomingPage} />
        <Route path={`${BASE}/bots/:id`} component={BotPage} />
        <Route path={`${BASE}/events`} component={EventsPage} />
        <Route path={`${BASE}/calendars`} component={CalendarsPage} />
        <Route path={`${BASE}/webhooks`} component={WebhooksPage} />
        <Route default component={NotFoundPage} />
      </Router>
    </Layout>
  );
}

render(<LocationProvider scope={BASE}><App /></LocationProvider>, document.getElementById('app')!);
