/** TEMPORARY scaffold: replaced by the page's owner. */
export function Findings() {
  return <h1>Findings</h1>;
}
