// Everything that registers ops, models and presets. Importing this makes the whole simulator available.
import './scenario/schemas';
import './runner/ops-core';
import './models/generic';
import './models/arm-smmu-v3';
import './presets';
import './models/dart/register';
import './models/dart/presets';
import './models/dart/dump';
import './sva/register';
import './dma/index';
import './drivers/index';
