/** TEMPORARY scaffold: replaced by the page's owner. */
export function Approvals() {
  return <h1>Approvals</h1>;
}
