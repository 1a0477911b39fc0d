/**
 * A modal dialog asking for a reason (or an optional note) before an action: accepting or resolving a
 * finding, acknowledging an alert. Focus moves into it when it opens, Tab stays inside, Escape cancels, and
 * focus returns to what had it before. A failed action keeps the dialog open and shows the server's message.
 */
import { useEffect, useId, useRef, useState } from 'react';
import type { FormEvent, KeyboardEvent, ReactNode } from 'react';

export interface ReasonDialogProps {
  /** Dialog heading: `Accept finding`. */
  title: string;
  /** What the action does, under the heading. */
  description?: ReactNode;
  /** Label of the text field: `Reason`, `Note (optional)`. */
  label: string;
  /** Label of the confirm button. */
  actionLabel: string;
  /** When true, confirming with an empty (or blank) text is refused with a message. */
  required: boolean;
  /** Longest text accepted. */
  maxLength?: number;
  /** Runs the action with the trimmed text; a rejection is shown in the dialog, which stays open. */
  onConfirm: (text: string) => Promise<void>;
  /** Closes the dialog (cancel, Escape, or after `onConfirm` resolved). */
  onClose: () => void;
}

const FOCUSABLE = 'button:not([disabled]), textarea:not([disabled]), input:not([disabled]), [href]';

export function ReasonDialog({
  title,
  description,
  label,
  actionLabel,
  required,
  maxLength = 500,
  onConfirm,
  onClose,
}: ReasonDialogProps) {
  const id = useId();
  const dialogRef = useRef<HTMLDivElement>(null);
  const fieldRef = useRef<HTMLTextAreaElement>(null);
  const [text, setText] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  useEffect(() => {
    const before = document.activeElement instanceof HTMLElement ? document.activeElement : null;
    fieldRef.current?.focus();
    return () => before?.focus();
  }, []);

  async function submit(e: FormEvent) {
    e.preventDefault();
    const value = text.trim();
    if (required && value === '') {
      setError(`${label} is required.`);
      fieldRef.current?.focus();
      return;
    }
    setBusy(true);
    setError(null);
    try {
      await onConfirm(value);
      onClose();
    } catch (err) {
      setError(err instanceof Error ? err.message : String(err));
      setBusy(false);
    }
  }

  function onKeyDown(e: KeyboardEvent) {
    if (e.key === 'Escape') {
      e.stopPropagation();
      onClose();
      return;
    }
    if (e.key !== 'Tab' || !dialogRef.current) return;
    const items = [...dialogRef.current.querySelectorAll<HTMLElement>(FOCUSABLE)];
    const first = items[0];
    const last = items.at(-1);
    if (!first || !last) return;
    if (e.shiftKey && document.activeElement === first) {
      e.preventDefault();
      last.focus();
    } else if (!e.shiftKey && document.activeElement === last) {
      e.preventDefault();
      first.focus();
    }
  }

  return (
    <div className="dialog-backdrop">
      <div
        ref={dialogRef}
        className="card dialog"
        role="dialog"
        aria-modal="true"
        aria-labelledby={`${id}-title`}
        aria-describedby={description ? `${id}-desc` : undefined}
        onKeyDown={onKeyDown}
      >
        <form onSubmit={submit} noValidate>
          <h2 id={`${id}-title`}>{title}</h2>
          {description && (
            <div id={`${id}-desc`} className="muted">
              {description}
            </div>
          )}
          <label htmlFor={`${id}-text`}>{label}</label>
          <textarea
            id={`${id}-text`}
            ref={fieldRef}
            rows={3}
            maxLength={maxLength}
            value={text}
            required={required}
            aria-invalid={error !== null}
            aria-errormessage={error ? `${id}-error` : undefined}
            onChange={(e) => setText(e.target.value)}
          />
          {error && (
            <p id={`${id}-error`} className="error" role="alert">
              {error}
            </p>
          )}
          <div className="dialog-actions">
            <button type="button" className="button secondary" onClick={onClose} disabled={busy}>
              Cancel
            </button>
            <button type="submit" className="button" disabled={busy}>
              {busy ? 'Saving…' : actionLabel}
            </button>
          </div>
        </form>
      </div>
    </div>
  );
}
