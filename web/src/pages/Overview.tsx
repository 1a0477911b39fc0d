/** TEMPORARY scaffold: replaced by the page's owner. */
export function Overview() {
  return <h1>Overview</h1>;
}
