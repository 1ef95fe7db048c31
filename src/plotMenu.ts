/**
 * The dashboard menu of a card: the whole dashboard, then every plot the scheduler
 * serves (GPU ones first), each opening as its own dockable pane.
 */
import { Menu } from '@lumino/widgets';

import { IPlot } from './plots';
import { CommandIDs } from './tokens';

export function addPlotItems(menu: Menu, name: string, plots: IPlot[]): void {
  menu.addItem({
    command: CommandIDs.openDashboard,
    args: { name, page: 'status', menu: true }
  });
  if (plots.length > 0) {
    menu.addItem({ type: 'separator' });
  }
  for (const plot of plots) {
    menu.addItem({
      command: CommandIDs.openDashboard,
      args: { name, page: plot.page, title: plot.title, menu: true }
    });
  }
}
