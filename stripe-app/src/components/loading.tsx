import { Box, Inline, Spinner } from '@stripe/ui-extension-sdk/ui';

export function Loading({ label }: { label: string }) {
  return (
    <Box css={{ stack: 'x', gap: 'small', alignY: 'center' }}>
      <Spinner size="small" />
      <Inline css={{ color: 'secondary' }}>{label}</Inline>
    </Box>
  );
}
