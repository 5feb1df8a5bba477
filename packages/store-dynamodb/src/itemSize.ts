import type { AttributeValue } from '@aws-sdk/client-dynamodb';

/** DynamoDB rejects an item above 400 KB; the estimate below must stay within this. */
export const MAX_ITEM_SIZE = 400_000;

/**
 * Estimated stored size of an item as LaunchDarkly's stores compute it: 100 bytes of overhead plus,
 * for each attribute, the length of its name and the UTF-8 length of its value (a number counts as
 * its decimal text). Using the same estimate means every writer drops exactly the same items.
 */
export function estimateItemSize(item: Record<string, AttributeValue>): number {
  let size = 100;
  for (const [name, value] of Object.entries(item)) {
    size += name.length;
    if (value.S !== undefined) size += Buffer.byteLength(value.S, 'utf8');
    else if (value.N !== undefined) size += Buffer.byteLength(value.N, 'utf8');
  }
  return size;
}
