import { nullTranslator } from '@jupyterlab/translation';

import { DashboardWidget } from '../widgets/DashboardWidget';

describe('a dashboard tab', () => {
  it('gives its frame a title that names the cluster and the page', () => {
    const widget = new DashboardWidget({
      cluster: 'etl',
      page: 'status',
      url: 'rapids-kf/clusters/etl/dashboard/status',
      label: 'etl: Status',
      trans: nullTranslator.load('jupyter_rapids_kf')
    });
    const frame = widget.node.querySelector('iframe');
    expect(frame?.getAttribute('title')).toBe('etl: Status');
    widget.dispose();
  });
});
