/** TEMPORARY scaffold: replaced by the page's owner. */
export function AlertDetail() {
  return <h1>AlertDetail</h1>;
}
