// @remote-ui/core's node kinds (KIND_COMPONENT, KIND_TEXT); the SDK re-exports neither.
const KIND_COMPONENT = 1;
const KIND_TEXT = 2;

/**
 * Props that hold elements (ContextView's footerContent, Banner's actions) are
 * rendered as remote fragments, which the SDK's `find` does not search. These
 * helpers read them the way the Dashboard host does.
 */
export interface RemoteNode {
  kind: number;
  type?: string;
  text?: string;
  props?: Record<string, unknown>;
  children?: RemoteNode[];
}

export function componentsIn(fragment: unknown): RemoteNode[] {
  const children = (fragment as RemoteNode | undefined)?.children ?? [];
  return children.flatMap((child) => (child.kind === KIND_COMPONENT ? [child, ...componentsIn(child)] : []));
}

export function textOf(node: RemoteNode): string {
  return (node.children ?? []).map((child) => (child.kind === KIND_TEXT ? child.text ?? '' : textOf(child))).join('');
}
