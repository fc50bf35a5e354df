import { useEffect, useRef } from 'preact/hooks';
import type { Action } from './use-action';

export interface ConfirmDialogProps {
  open: boolean;
  title: string;
  message: string;
  confirmLabel: string;
  danger?: boolean;
  busy?: boolean;
  onConfirm: () => void;
  onCancel: () => void;
}

/**
 * A native modal <dialog>: the browser traps focus, Escape cancels, and focus returns to the button that
 * opened it. Cancel has the initial focus so a stray Enter never confirms a destructive action.
 */
export function ConfirmDialog(props: ConfirmDialogProps) {
  const ref = useRef<HTMLDialogElement>(null);
  const cancelRef = useRef<HTMLButtonElement>(null);

  useEffect(() => {
    const dialog = ref.current;
    if (!dialog) return;
    if (props.open && !dialog.open) {
      dialog.showModal();
      cancelRef.current?.focus();
    }
    if (!props.open && dialog.open) dialog.close();
  }, [props.open]);

  return (
    <dialog
      ref={ref}
      class="confirm-dialog"
      aria-labelledby="confirm-title"
      onCancel={(e) => {
        e.preventDefault();
        props.onCancel();
      }}
    >
      <h2 id="confirm-title">{props.title}</h2>
      <p>{props.message}</p>
      <div class="dialog-actions">
        <button type="button" ref={cancelRef} onClick={props.onCancel} disabled={props.busy}>
          Cancel
        </button>
        <button
          type="button"
          class={props.danger ? 'danger' : 'primary'}
          onClick={props.onConfirm}
          disabled={props.busy}
        >
          {props.busy ? 'Working…' : props.confirmLabel}
        </button>
      </div>
    </dialog>
  );
}

/** The confirmation of whatever admin action `useAction` has pending. */
export function ActionConfirmDialog({ action }: { action: Action }) {
  const spec = action.pending?.spec;
  return (
    <ConfirmDialog
      open={spec !== undefined}
      title={spec?.label ?? ''}
      message={spec?.confirm ?? ''}
      confirmLabel={spec?.label ?? 'Confirm'}
      danger={spec?.danger ?? false}
      busy={action.busy}
      onConfirm={action.confirm}
      onCancel={action.cancel}
    />
  );
}
