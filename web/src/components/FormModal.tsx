// The dialog every "create" or "change" form sits in: a title, the form, its error, and
// the submit and cancel buttons (Enter submits).

import { useState, type ReactNode } from 'react';
import {
  Alert,
  Button,
  Form,
  FormHelperText,
  HelperText,
  HelperTextItem,
  Modal,
  ModalBody,
  ModalFooter,
  ModalHeader,
} from '@patternfly/react-core';
import { messageOf } from '../api';

export function FormModal({
  id,
  title,
  submit,
  canSubmit,
  onSubmit,
  onClose,
  extraActions,
  notice,
  variant = 'small',
  children,
}: {
  /** The form's id, which the footer's submit button names. */
  id: string;
  title: string;
  submit: string;
  canSubmit: boolean;
  /** Throws to show its message in the dialog; the dialog stays open. */
  onSubmit: () => Promise<void>;
  onClose: () => void;
  extraActions?: ReactNode;
  /** Shown above the fields (a warning before a change, say). */
  notice?: ReactNode;
  variant?: 'small' | 'medium';
  children: ReactNode;
}) {
  const [error, setError] = useState<string>();
  const [busy, setBusy] = useState(false);
  const send = async () => {
    setBusy(true);
    setError(undefined);
    try {
      await onSubmit();
    } catch (failure) {
      setError(messageOf(failure));
    } finally {
      setBusy(false);
    }
  };
  return (
    <Modal
      isOpen
      variant={variant}
      onClose={onClose}
      aria-labelledby={`${id}-title`}
      // The first field, not the close button: typing starts at once.
      elementToFocus={`#${id} :is(input, select, textarea):not(:disabled)`}
    >
      <ModalHeader title={title} labelId={`${id}-title`} />
      <ModalBody>
        <Form
          id={id}
          onSubmit={(event) => {
            event.preventDefault();
            if (canSubmit && !busy) void send();
          }}
        >
          {error && <Alert variant="danger" isInline title={error} />}
          {notice}
          {children}
        </Form>
      </ModalBody>
      <ModalFooter>
        <Button type="submit" form={id} isDisabled={!canSubmit || busy} isLoading={busy}>
          {submit}
        </Button>
        {extraActions}
        <Button variant="link" onClick={onClose}>
          Cancel
        </Button>
      </ModalFooter>
    </Modal>
  );
}

/** A text field's rule, shown under it, in red once it is broken. */
export function FieldRule({ broken, children }: { broken: boolean; children: ReactNode }) {
  return (
    <FormHelperText>
      <HelperText>
        <HelperTextItem variant={broken ? 'error' : 'default'}>{children}</HelperTextItem>
      </HelperText>
    </FormHelperText>
  );
}
