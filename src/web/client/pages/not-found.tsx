import { BASE } from '../api.ts';

export function NotFoundPage() {
  return (
    <section class="page">
      <h1>Page not found</h1>
      <p>There is no dashboard page at this address. <a href={BASE}>Go to Upcoming</a>.</p>
    </section>
  );
}
