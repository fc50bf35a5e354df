import { PropertyList, PropertyListItem } from '@stripe/ui-extension-sdk/ui';
import type { UserInfo } from '../backend/api-types';

export function ConnectedUser({ user }: { user: UserInfo }) {
  return (
    <PropertyList>
      <PropertyListItem label="Connected as" value={user.name ?? user.sub} />
      {user.email !== undefined && <PropertyListItem label="Email" value={user.email} />}
    </PropertyList>
  );
}
