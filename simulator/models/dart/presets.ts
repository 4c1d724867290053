// Apple Silicon platforms. DART names follow the device trees (dwc3_0_dart_0/1, pcie0_dart_N, dcp/disp0
// DARTs); stream numbers for the display pair are illustrative. Asahi kernels run with 16K pages, so the
// presets default to PAGE_SIZE 16K: set `kernel: { page_size: 4K }` to see mainline's forced bypass.
import { registerPreset } from '../../platform/registry';

registerPreset({
  name: 'apple-t8103',
  doc: 'Apple M1 (t8103), 8 GiB of RAM at 0x800000000, PAGE_SIZE 16K by default. DARTs (all 16K pages, DART1 PTEs): '
    + 'dart-usb0a + dart-usb0b (apple,t8103-dart) both in front of the dwc3-0 USB controller (stream 0 on one, stream 1 on the other); '
    + 'apcie-dart0 in front of the PCIe Wi-Fi 0000:01:00.0 and apcie-dart2 in front of the PCIe xHCI 0000:03:00.0 (stream 0 each); '
    + 'dart-dcp for the display coprocessor dcp (stream 0) and dart-disp0 for its PIODMA engine piodma (stream 4), the display DART '
    + 'locked by the firmware and run with the downstream driver (its TTBR is read-only); dart-usb4 (apple,t8103-usb4-dart, 64 streams, '
    + 'no bypass) in front of an untrusted Thunderbolt device 0000:05:00.0.',
  kernel: { page_size: '16K' },
  yaml: `
memory: { base: 0x800000000, size: 8G }
iommus:
  - { name: dart-usb0a, model: apple-dart-t8103 }
  - { name: dart-usb0b, model: apple-dart-t8103 }
  - { name: apcie-dart0, model: apple-dart-t8103 }
  - { name: apcie-dart2, model: apple-dart-t8103 }
  - { name: dart-dcp, model: apple-dart-t8103 }
  - { name: dart-disp0, model: apple-dart-t8103, locked: true, downstream: true }
  - { name: dart-usb4, model: apple-dart-t8103-usb4 }
devices:
  - { name: dwc3-0, iommus: [dart-usb0a, dart-usb0b], streams: [0, 1] }
  - { name: "0000:01:00.0", iommu: apcie-dart0, streams: [0], bus: pci }
  - { name: "0000:03:00.0", iommu: apcie-dart2, streams: [0], bus: pci }
  - { name: dcp, iommu: dart-dcp, streams: [0] }
  - { name: piodma, iommu: dart-disp0, streams: [4] }
  - { name: "0000:05:00.0", iommu: dart-usb4, streams: [0], bus: pci, untrusted: true }
`,
});

registerPreset({
  name: 'apple-t6000',
  doc: 'Apple M1 Pro/Max (t6000), 16 GiB of RAM at 0x10000000000 (above the 36-bit reach of DART1, hence DART2), PAGE_SIZE 16K by default. '
    + 'DARTs (apple,t6000-dart: 16K pages, 42-bit output, DART2 PTEs with sub-page protection): dart-usb0a + dart-usb0b in front of dwc3-0 '
    + '(streams 0 and 1); apcie-dart0 in front of the PCIe Wi-Fi 0000:01:00.0; apcie-dart1 in front of the SD card reader 0000:02:00.0; '
    + 'dart-dcp for dcp (stream 0) and the locked, downstream-driven dart-disp0 for piodma (stream 4).',
  kernel: { page_size: '16K' },
  yaml: `
memory: { base: 0x10000000000, size: 16G }
iommus:
  - { name: dart-usb0a, model: apple-dart-t6000 }
  - { name: dart-usb0b, model: apple-dart-t6000 }
  - { name: apcie-dart0, model: apple-dart-t6000 }
  - { name: apcie-dart1, model: apple-dart-t6000 }
  - { name: dart-dcp, model: apple-dart-t6000 }
  - { name: dart-disp0, model: apple-dart-t6000, locked: true, downstream: true }
devices:
  - { name: dwc3-0, iommus: [dart-usb0a, dart-usb0b], streams: [0, 1] }
  - { name: "0000:01:00.0", iommu: apcie-dart0, streams: [0], bus: pci }
  - { name: "0000:02:00.0", iommu: apcie-dart1, streams: [0], bus: pci }
  - { name: dcp, iommu: dart-dcp, streams: [0] }
  - { name: piodma, iommu: dart-disp0, streams: [4] }
`,
});

registerPreset({
  name: 'apple-t8110',
  doc: 'Apple M2-generation DARTs (apple,t8110-dart), 8 GiB of RAM at 0x800000000, PAGE_SIZE 16K by default. dart-usb0 (32-bit input, '
    + '64 streams) in front of dwc3-0 (stream 1); apcie-dart0 with a 42-bit input space (4-level tables: TCR FOUR_LEVEL, NO PGD faults) '
    + 'in front of the PCIe Wi-Fi 0000:01:00.0; dart-dcp (32-bit input) for dcp (stream 0). Widths and stream counts are PARAMS3/PARAMS4 '
    + 'values chosen to show both table depths.',
  kernel: { page_size: '16K' },
  yaml: `
memory: { base: 0x800000000, size: 8G }
iommus:
  - { name: dart-usb0, model: apple-dart-t8110, va_width: 32, pa_width: 42, streams: 64 }
  - { name: apcie-dart0, model: apple-dart-t8110, va_width: 42, pa_width: 42, streams: 16 }
  - { name: dart-dcp, model: apple-dart-t8110, va_width: 32, pa_width: 42, streams: 64 }
devices:
  - { name: dwc3-0, iommu: dart-usb0, streams: [1] }
  - { name: "0000:01:00.0", iommu: apcie-dart0, streams: [0], bus: pci }
  - { name: dcp, iommu: dart-dcp, streams: [0] }
`,
});
