/**
 * Under the image field: on which GPU nodes the chosen image already is, so a user knows
 * whether the first workers will wait for a pull. Asked a moment after typing stops.
 */
import * as React from 'react';

import { IImageNodes } from '../tokens';

const SETTLE_MS = 400;

export function ImagePresence(props: {
  image: string;
  find: (image: string) => Promise<IImageNodes>;
}): JSX.Element | null {
  const { image, find } = props;
  const [found, setFound] = React.useState<IImageNodes | null>(null);
  React.useEffect(() => {
    const chosen = image.trim();
    if (!chosen) {
      setFound(null);
      return;
    }
    let alive = true;
    const timer = setTimeout(() => {
      find(chosen).then(
        answer => alive && setFound(answer),
        () => alive && setFound(null) // the form works without it
      );
    }, SETTLE_MS);
    return () => {
      alive = false;
      clearTimeout(timer);
    };
  }, [image, find]);
  if (!found || !found.known || found.image !== image.trim()) {
    return null;
  }
  return (
    <div className="jp-RapidsKF-help jp-RapidsKF-imageNodes" aria-live="polite">
      {found.message}
    </div>
  );
}
