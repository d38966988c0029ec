// Colour-blind-safe palettes: viridis (sequential), ColorBrewer RdBu
// (diverging), and red/yellow/green tones that also differ in lightness.
export const NODATA = "#c9c9c9";
export const VIRIDIS = ["#440154", "#414487", "#2a788e", "#22a884", "#7ad151", "#fde725"];
export const RDBU = { sigDown3: "#2166ac", sigDown: "#67a9cf", down: "#d1e5f0", up: "#fddbc7", sigUp: "#ef8a62", sigUp3: "#b2182b" };
export const CATEGORY = { red: "#b2182b", yellow: "#fee08b", green: "#7fbf7b" };
export const HOTSPOT = { 3: "#b2182b", 2: "#ef8a62", 1: "#fddbc7", 0: "#f7f7f7", "-1": "#d1e5f0", "-2": "#67a9cf", "-3": "#2166ac" };
export const EMERGING = {
  "new hot spot": "#fee0d2",
  "consecutive hot spot": "#fcbba1",
  "sporadic hot spot": "#fc9272",
  "oscillating hot spot": "#fb6a4a",
  "intensifying hot spot": "#de2d26",
  "persistent hot spot": "#a50f15",
  "diminishing hot spot": "#f16913",
  "historical hot spot": "#7f2704",
  "new cold spot": "#deebf7",
  "consecutive cold spot": "#c6dbef",
  "sporadic cold spot": "#9ecae1",
  "oscillating cold spot": "#6baed6",
  "intensifying cold spot": "#3182bd",
  "persistent cold spot": "#08519c",
  "diminishing cold spot": "#4292c6",
  "historical cold spot": "#08306b",
};
// Single events by kind (ColorBrewer Dark2); clusters of several events are
// neutral grey (layers.js), so no cluster reads as one kind.
export const CLUSTER = "#4d4d4d";
export const EVENT_KIND = { crime: "#d95f02", accident: "#7570b3", offence: "#1b9e77" };
