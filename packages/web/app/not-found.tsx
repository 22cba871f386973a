export default function NotFound() {
  return (
    <div className="narrow card stack">
      <h1>Not found</h1>
      <p>There is nothing here, or it is not shared with you.</p>
      <p>
        <a href="/">Go to the start page</a>
      </p>
    </div>
  );
}
