/** TEMPORARY scaffold: replaced by the page's owner. */
export function Alerts() {
  return <h1>Alerts</h1>;
}
