/** TEMPORARY scaffold: replaced by the page's owner. */
export function Scans() {
  return <h1>Scans</h1>;
}
