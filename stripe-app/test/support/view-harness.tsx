import { useState, type ReactElement } from 'react';
import { getMockContextProps, render } from '@stripe/ui-extension-sdk/testing';
import type { ExtensionContextValue } from '@stripe/ui-extension-sdk/context';
import { BACKEND_URL } from './fake-backend';

type Constants = NonNullable<ExtensionContextValue['environment']['constants']>;

/** The props the Dashboard passes to a view, on a payment page by default. */
export function dashboardContext(
  options: { constants?: Constants; viewportID?: string; objectContext?: { id: string; object: string } } = {},
): ExtensionContextValue {
  return getMockContextProps({
    environment: {
      mode: 'test',
      viewportID: options.viewportID ?? 'stripe.dashboard.payment.detail',
      objectContext: options.objectContext ?? { id: 'pi_3MtwBwLkdIwHu7ix28a3tqPa', object: 'payment_intent' },
      constants: options.constants ?? { HOOKLANE_BACKEND_URL: BACKEND_URL },
    },
  });
}

/**
 * Lets the view's promises and effects run until `check` holds. Each `update` flushes one
 * round of pending promises; chains (sign, fetch, read, re-render, next effect) take a few.
 */
export async function until(update: () => Promise<void>, check: () => boolean, what: string): Promise<void> {
  for (let round = 0; round < 25; round += 1) {
    if (check()) return;
    await update();
  }
  throw new Error(`the view never reached: ${what}`);
}

const mounted: Array<() => Promise<void>> = [];

/**
 * `render` from the SDK, with a way to take the view away again: the SDK's own
 * `unmount` leaves the React tree (and so the view's intervals) running.
 */
export function renderView(element: ReactElement): ReturnType<typeof render> {
  let hide = () => {};
  function Removable() {
    const [shown, setShown] = useState(true);
    hide = () => setShown(false);
    return shown ? element : null;
  }
  const rendered = render(<Removable />);
  mounted.push(async () => {
    rendered.wrapper.act(() => hide());
    await rendered.update(); // runs the effects' cleanups
  });
  return rendered;
}

export async function unmountViews(): Promise<void> {
  for (const remove of mounted.splice(0)) await remove();
}
