// After a page change, focus goes to the new page's heading (screen readers announce where the
// user is) and the document is named after it. A page that loads its data first shows a
// placeholder heading marked `data-loading` (the bot page's "Bot", before the bot's name is
// known), which it then replaces: focus follows to the heading that replaces it, and the title
// with it, unless the user has moved focus somewhere else meanwhile.

let watcher: MutationObserver | null = null;

function stopWatching(): void {
  watcher?.disconnect();
  watcher = null;
}

function focusAndName(heading: HTMLElement): void {
  heading.tabIndex = -1;
  heading.focus({ preventScroll: true });
  document.title = `${heading.textContent ?? 'Dashboard'} · Rollcall`;
}

function isLoading(heading: HTMLElement): boolean {
  return heading.hasAttribute('data-loading');
}

export function focusHeading(): void {
  stopWatching();
  // After the new page's first render.
  setTimeout(() => {
    const main = document.querySelector<HTMLElement>('main');
    const first = main?.querySelector<HTMLElement>('h1');
    if (!main || !first) return;
    focusAndName(first);
    if (!isLoading(first)) return;
    let focused = first;
    const observer = new MutationObserver(() => {
      // The user went on (Tab, a click): focus stays where they put it.
      const active = document.activeElement;
      if (active !== focused && active !== document.body && active !== null) {
        stopWatching();
        return;
      }
      const heading = main.querySelector<HTMLElement>('h1');
      if (!heading) return;
      if (heading !== focused || !isLoading(heading)) {
        focusAndName(heading);
        focused = heading;
      }
      if (!isLoading(heading)) stopWatching();
    });
    watcher = observer;
    observer.observe(main, { childList: true, subtree: true, characterData: true, attributes: true, attributeFilter: ['data-loading'] });
  }, 0);
}
