/**
 * The extension's icons (SVG in style/icons, themed through the jp-icon classes).
 */
import { LabIcon } from '@jupyterlab/ui-components';

import gpuClustersSvg from '../style/icons/gpu-clusters.svg';

export const gpuClustersIcon = new LabIcon({
  name: 'jupyter-rapids-kf:gpu-clusters',
  svgstr: gpuClustersSvg
});
