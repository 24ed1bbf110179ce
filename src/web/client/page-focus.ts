// After a page change, focus goes to the new page's heading (screen readers announce where the
// user is) and the document is named after it. On a page's first load (a direct load, a reload)
// the document is named the same way, but focus is left where the browser puts it: the first Tab
// reaches the skip link. A page that loads its data first shows a placeholder heading marked
// `data-loading` (the bot page's "Bot", before its meeting is known), which it then replaces: the
// name follows to the heading that replaces it, and so does focus, unless the user has moved it
// somewhere else meanwhile.

let watcher: MutationObserver | null = null;

function stopWatching(): void {
  watcher?.disconnect();
  watcher = null;
}

function nameAfter(heading: HTMLElement): void {
  document.title = `${heading.textContent ?? 'Dashboard'} · Rollcall`;
}

function focusOn(heading: HTMLElement): void {
  heading.tabIndex = -1;
  heading.focus({ preventScroll: true });
}

function isLoading(heading: HTMLElement): boolean {
  return heading.hasAttribute('data-loading');
}

function followHeading(moveFocus: boolean): void {
  stopWatching();
  // After the new page's first render.
  setTimeout(() => {
    const main = document.querySelector<HTMLElement>('main');
    const first = main?.querySelector<HTMLElement>('h1');
    if (!main || !first) return;
    let isFocusFollowing = moveFocus;
    let current = first;
    const take = (heading: HTMLElement) => {
      current = heading;
      nameAfter(heading);
      if (isFocusFollowing) focusOn(heading);
    };
    take(first);
    if (!isLoading(first)) return;
    const observer = new MutationObserver(() => {
      // The user went on (Tab, a click): focus stays where they put it; the name still follows.
      const active = document.activeElement;
      if (isFocusFollowing && active !== current && active !== document.body && active !== null) isFocusFollowing = false;
      const heading = main.querySelector<HTMLElement>('h1');
      if (!heading) return;
      if (heading !== current || !isLoading(heading)) take(heading);
      if (!isLoading(heading)) stopWatching();
    });
    watcher = observer;
    observer.observe(main, { childList: true, subtree: true, characterData: true, attributes: true, attributeFilter: ['data-loading'] });
  }, 0);
}

/** After a move to another page (or a sign-in): focus on its heading, and the document named after it. */
export function focusHeading(): void {
  followHeading(true);
}

/** On the first load of the dashboard: the document named after the page's heading, focus left alone. */
export function nameDocument(): void {
  followHeading(false);
}
