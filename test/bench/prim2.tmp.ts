import { deflateRawSync, deflateSync, inflateRawSync } from 'node:zlib';
const d = `@@ -12 +12 @@\n-made people way very did draft launch pricing review agent handoff\n+made people way very did draft launch pricing review their handoff\n`;
console.log(d.length, deflateRawSync(d).length, deflateSync(d).length, deflateRawSync(d, {level: 9}).length);
