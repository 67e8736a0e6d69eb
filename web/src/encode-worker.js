// JPEG/PNG encoder worker. Main-thread canvas.toBlob sometimes waits ~1 s for an idle
// period (notes/headless-rendering.md, pitfall 1); OffscreenCanvas.convertToBlob in a
// worker does not. Input: RGBA pixels as readPixels gives them (rows bottom-up);
// the rows are flipped here, off the main thread.
let canvas = null;
let ctx = null;

self.onmessage = async (event) => {
  const { id, width, height, pixels, type, quality } = event.data;
  try {
    if (!canvas || canvas.width !== width || canvas.height !== height) {
      canvas = new OffscreenCanvas(width, height);
      // a CPU-backed canvas: a GPU one sends the encode through the single SwiftShader
      // GPU process (8.7 -> 2.9 ms per 640x480 JPEG here)
      ctx = canvas.getContext('2d', { willReadFrequently: true });
    }
    const src = new Uint8Array(pixels);
    const image = ctx.createImageData(width, height);
    const row = width * 4;
    for (let y = 0; y < height; y++) {
      image.data.set(src.subarray((height - 1 - y) * row, (height - y) * row), y * row);
    }
    ctx.putImageData(image, 0, 0);
    const blob = await canvas.convertToBlob({ type, quality });
    const buffer = await blob.arrayBuffer();
    self.postMessage({ id, buffer }, [buffer]);
  } catch (err) {
    self.postMessage({ id, error: String(err?.message ?? err) });
  }
};
