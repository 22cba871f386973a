/** What a form or action says after it ran: its error (announced at once), and its success. */
export function Feedback({
  error,
  message,
}: {
  error: string | null;
  /** Omitted: the form reports only errors. */
  message?: string | null;
}) {
  return (
    <>
      {error ? (
        <p className="error" role="alert">
          {error}
        </p>
      ) : null}
      {message !== undefined ? (
        <p aria-live="polite" className="success">
          {message}
        </p>
      ) : null}
    </>
  );
}
