/** TEMPORARY scaffold: replaced by the page's owner. */
export function Events() {
  return <h1>Events</h1>;
}
