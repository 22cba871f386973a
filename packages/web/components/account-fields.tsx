/**
 * The fields a new account and a new password share (joining from an invite,
 * setting the Clique up, changing a password), so that the three forms ask
 * the same way and keep the same rules.
 */

/** Username and display name of a new account; the inputs' ids start with `prefix`. */
export function AccountNameFields({ prefix }: { prefix: string }) {
  return (
    <>
      <div className="field">
        <label htmlFor={`${prefix}-username`}>Username</label>
        <p id={`${prefix}-username-hint`} className="hint join-hint">
          Letters, digits and _; people see it as @name.
        </p>
        <input
          id={`${prefix}-username`}
          aria-describedby={`${prefix}-username-hint`}
          name="username"
          type="text"
          autoComplete="username"
          autoCapitalize="none"
          spellCheck={false}
          maxLength={30}
          required
        />
      </div>
      <div className="field">
        <label htmlFor={`${prefix}-display-name`}>Display name</label>
        <p id={`${prefix}-display-name-hint`} className="hint join-hint">
          Optional: the name people see.
        </p>
        <input
          id={`${prefix}-display-name`}
          aria-describedby={`${prefix}-display-name-hint`}
          name="display_name"
          type="text"
          autoComplete="name"
          maxLength={30}
        />
      </div>
    </>
  );
}

interface NewPasswordFieldsProps {
  /** The first input's id and form name; the second one's add `-confirm` / `_confirm`. */
  id: string;
  name: string;
  /** What the first input is called ("Password", "New password"); the second adds "again". */
  label: string;
}

/** A new password, typed twice, with the server's minimum length. */
export function NewPasswordFields({ id, name, label }: NewPasswordFieldsProps) {
  return (
    <>
      <div className="field">
        <label htmlFor={id}>{label}</label>
        <p id={`${id}-hint`} className="hint join-hint">
          At least 10 characters.
        </p>
        <input
          id={id}
          aria-describedby={`${id}-hint`}
          name={name}
          type="password"
          autoComplete="new-password"
          minLength={10}
          required
        />
      </div>
      <div className="field">
        <label htmlFor={`${id}-confirm`}>{label} again</label>
        <input
          id={`${id}-confirm`}
          name={`${name}_confirm`}
          type="password"
          autoComplete="new-password"
          minLength={10}
          required
        />
      </div>
    </>
  );
}
