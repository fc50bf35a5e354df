/** `/v1/<plural>/<id>`: where Stripe serves a v1 object (what `related_object.url` holds for it). */
export function objectUrl(object: { id: string; object: string }): string {
  const path = object.object
    .split('.')
    .map((part, i, all) => (i === all.length - 1 ? plural(part) : part))
    .join('/');
  return `/v1/${path}/${object.id}`;
}

function plural(noun: string): string {
  if (noun.endsWith('s')) return `${noun}es`;
  if (noun.endsWith('y') && !/[aeiou]y$/.test(noun)) return `${noun.slice(0, -1)}ies`;
  return `${noun}s`;
}
