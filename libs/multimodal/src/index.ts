export { QWEN2_VL_VISION, resizeFactor, type VisionConfig } from './vision-config';
export { MultimodalError } from './multimodal-error';
export { smartResize } from './smart-resize';
export { decodeDataUrl } from './image-source';
export { patchify, patchifyBytes } from './patchify';
export { PatchifyPool } from './patchify-pool';
export { preprocessImage, type ProcessedImage } from './preprocess';
export { expandPromptImages, hasContentIds, PSEUDO_TOKEN_BASE, routingTokens, type PromptImages } from './prompt-images';
