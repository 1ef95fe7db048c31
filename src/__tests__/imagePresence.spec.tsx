import { nullTranslator } from '@jupyterlab/translation';
import { act, render, screen } from '@testing-library/react';
import * as React from 'react';

import { initialValues } from '../components/clusterForm';
import { NewClusterForm } from '../components/NewClusterForm';
import { IImageNodes } from '../tokens';
import { environment } from './fakes';

const trans = nullTranslator.load('jupyter_rapids_kf');

function answer(image: string, nodes: string[]): IImageNodes {
  return {
    image,
    known: true,
    nodes,
    gpu_nodes: 3,
    message: nodes.length
      ? `${image} is already on ${nodes.length} of 3 GPU node(s): ${nodes.join(', ')}; new workers prefer them`
      : `${image} is on none of the 3 GPU node(s) yet: the first workers pull it`
  };
}

function form(image: string, find: (image: string) => Promise<IImageNodes>) {
  const env = environment();
  return (
    <NewClusterForm
      environment={env}
      values={{ ...initialValues(env), image }}
      errors={{}}
      busy={false}
      trans={trans}
      onChange={jest.fn()}
      findImage={find}
    />
  );
}

describe('the form says where the chosen image already is', () => {
  beforeEach(() => jest.useFakeTimers());
  afterEach(() => jest.useRealTimers());

  it('asks once typing settles and shows the nodes', async () => {
    const find = jest.fn(async (image: string) =>
      answer(image, image.endsWith('26.10') ? ['gpu-node-2'] : [])
    );
    const { rerender } = render(form('rapidsai/base:26.1', find));
    rerender(form('rapidsai/base:26.10', find));
    await act(async () => {
      jest.advanceTimersByTime(500);
    });
    expect(find).toHaveBeenCalledTimes(1);
    expect(find).toHaveBeenCalledWith('rapidsai/base:26.10');
    expect(
      screen.getByText(
        'rapidsai/base:26.10 is already on 1 of 3 GPU node(s): gpu-node-2; new workers prefer them'
      )
    ).toBeTruthy();
    rerender(form('rapidsai/base:26.08', find));
    await act(async () => {
      jest.advanceTimersByTime(500);
    });
    expect(screen.getByText(/on none of the 3 GPU node\(s\) yet/)).toBeTruthy();
  });

  it('says nothing where nodes may not be read', async () => {
    const find = jest.fn(async (image: string) => ({
      ...answer(image, []),
      known: false,
      message: 'nodes may not be read here'
    }));
    render(form('rapidsai/base:26.10', find));
    await act(async () => {
      jest.advanceTimersByTime(500);
    });
    expect(find).toHaveBeenCalled();
    expect(screen.queryByText(/nodes may not be read/)).toBeNull();
  });
});
