// Replaces `esbuild` in the sync function's bundle. @flagstaff/lambda's entry also exports the layer
// builder, which imports esbuild; the sync function never builds a layer, and esbuild (a native binary
// driven from JavaScript) cannot run from a bundle anyway. Without this stand-in the bundle would carry
// esbuild's JavaScript half and fail looking for the binary.
export function build(): never {
  throw new Error('esbuild is not part of the sync function');
}
