/** TEMPORARY scaffold: replaced by the page's owner. */
export function IdentityDetail() {
  return <h1>IdentityDetail</h1>;
}
