/** TEMPORARY scaffold: replaced by the page's owner. */
export function Identities() {
  return <h1>Identities</h1>;
}
