import type { ExtensionContextValue } from '@stripe/ui-extension-sdk/context';
import { HooklaneView } from '../components/hooklane-view';

/** stripe.dashboard.drawer.default: the app's entry point on any Dashboard page. */
const DrawerView = (context: ExtensionContextValue) => <HooklaneView context={context} title="hooklane" />;

export default DrawerView;
