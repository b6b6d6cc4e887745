import { printOut } from '../../output';

export async function features(): Promise<void> {
  const { features } = await import('../../container/features');
  printOut(JSON.stringify(features(), null, 4) + '\n');
}
