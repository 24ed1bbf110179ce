// Which list of the main navigation a page belongs to where its address alone cannot say: a bot's
// page is under Upcoming while the bot is live and under Ended once it has ended, as its
// breadcrumb says. The page tells the layout once it knows (the bot read); until then neither is
// marked.
import { createContext } from 'preact';
import { useContext, useEffect } from 'preact/hooks';

export type NavSection = 'upcoming' | 'ended';

export const NavSectionContext = createContext<(section: NavSection | null) => void>(() => {});

/** Marks `section` in the navigation while the page shows (null: neither). */
export function useNavSection(section: NavSection | null): void {
  const setSection = useContext(NavSectionContext);
  useEffect(() => {
    setSection(section);
    return () => setSection(null);
  }, [setSection, section]);
}
