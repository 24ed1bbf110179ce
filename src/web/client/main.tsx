// The dashboard: a sign-in page, then the pages of the signed-in user. Every read and action goes
// through /api/v1, as for any other client; see docs/dashboard.md.
import './styles.css';
import { render } from 'preact';
import { useEffect, useRef, useState } from 'preact/hooks';
import { LocationProvider, Route, Router } from 'preact-iso/router';
import { BASE, loadSession, signOut, whenSessionChanged, whenSignedOut, type Session } from './api.ts';
import { startLive, stopLive } from './live.ts';
import { focusHeading, nameDocument } from './page-focus.ts';
import { whenOtherTabChangesSession } from './session-channel.ts';
import { Layout } from './components/layout.tsx';
import { Loading, ErrorState } from './components/states.tsx';
import { SignInPage } from './pages/sign-in.tsx';
import { UpcomingPage } from './pages/upcoming.tsx';
import { EndedPage } from './pages/ended.tsx';
import { BotPage } from './pages/bot.tsx';
import { CalendarsPage } from './pages/calendars.tsx';
import { EventsPage } from './pages/events.tsx';
import { WebhooksPage } from './pages/webhooks.tsx';
import { NotFoundPage } from './pages/not-found.tsx';

/** Why the sign-in page shows again, when a session this page held is gone. */
const SESSION_ENDED = 'Your session ended: it expired, was signed out in another tab, or its API key was revoked. Sign in again to go on.';
const SIGNED_OUT = 'You are signed out.';

function App() {
  const [session, setSession] = useState<Session | null | undefined>(undefined);
  const [failure, setFailure] = useState<Error | null>(null);
  const [notice, setNotice] = useState<string | null>(null);
  /**
   * Said over the pages about this browser's session, until the next page: it signed in again in
   * another tab, or a sign-out failed.
   */
  const [sessionNotice, setSessionNotice] = useState<string | null>(null);
  /** The session this page holds now, to tell a new one (another tab signed in) from the same one read again. */
  const held = useRef<Session | null>(null);
  /** The session the live stream was opened under. */
  const liveFor = useRef<string | null>(null);
  /** Whether this page held a live session (so that losing it is told, where a first visit is not). */
  const hadSession = useRef(false);
  /** Whether the sign-in page is showing (a session another tab opened then replaces it). */
  const isSigningIn = useRef(false);
  isSigningIn.current = session === null;
  /** Until the first answer about the session: the page it shows is the address's first load. */
  const isFirstLoad = useRef(true);
  const endSession = (why: string) => {
    stopLive();
    if (hadSession.current) setNotice(why);
    hadSession.current = false;
    held.current = null;
    setSession(null);
  };
  const load = () => loadSession().then((s) => {
    setFailure(null);
    // A direct load or a reload names the document too (later pages are named as they are reached).
    const isFirst = isFirstLoad.current;
    isFirstLoad.current = false;
    if (s === null) {
      endSession(SESSION_ENDED);
      if (isFirst) nameDocument();
      return;
    }
    const previous = held.current;
    held.current = s;
    const isSwitch = previous !== null && previous.csrf_token !== s.csrf_token;
    if (isSwitch) {
      setSessionNotice(`This browser signed in again in another tab${s.user.name === previous.user.name ? '' : `, as ${s.user.name}`}: the page now shows that session's data.`);
    }
    // The page under focus was replaced (the sign-in form, or a page read again): focus its heading.
    if (isSwitch || isSigningIn.current) focusHeading();
    else if (isFirst) nameDocument();
    setSession(s);
  }, (error: Error) => setFailure(error));
  useEffect(() => {
    void load();
    whenSignedOut(() => endSession(SESSION_ENDED));
    whenSessionChanged(() => void load());
    whenOtherTabChangesSession(() => void load());
  }, []);
  useEffect(() => {
    if (session) {
      hadSession.current = true;
      // A stream opened under the session another tab replaced is read again under the new one.
      if (liveFor.current !== null && liveFor.current !== session.csrf_token) stopLive();
      liveFor.current = session.csrf_token;
      startLive(() => void load());
    } else {
      liveFor.current = null;
      stopLive();
    }
  }, [session]);

  if (failure) return <main id="main" class="centered"><h1>Rollcall</h1><ErrorState error={failure} onRetry={() => void load()} /></main>;
  if (session === undefined) return <main id="main" class="centered"><Loading what="the dashboard" /></main>;
  if (session === null) return <SignInPage notice={notice} onSignedIn={(s) => { held.current = s; setNotice(null); setSessionNotice(null); setSession(s); focusHeading(); }} />;
  return (
    <Layout session={session} notice={sessionNotice} onSignOut={async () => {
      try {
        await signOut();
      } catch (error) {
        // Still signed in: say so over the page, which stays (and Sign out with it, to try again),
        // rather than show the sign-in page over a live session.
        setSessionNotice(`Sign-out failed: ${(error as Error).message} You are still signed in.`);
        return;
      }
      endSession(SIGNED_OUT);
      // Said even when a request refused meanwhile (401) ended the session first.
      setNotice(SIGNED_OUT);
    }}>
      {/* Keyed by the session: pages another tab's sign-in replaced read their data again. */}
      <Router key={session.csrf_token} onRouteChange={() => { setSessionNotice(null); focusHeading(); }}>
        <Route path={BASE} component={UpcomingPage} />
        <Route path={`${BASE}/ended`} component={EndedPage} />
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
