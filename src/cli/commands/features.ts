import { printOut } from '../../output';

export async function features(): Promise<void> {
  const { features } = await import('../../container/features');
  const { sys } = await import('../../sys/index');
  printOut(JSON.stringify(features(sys()), null, 4) + '\n');
}
