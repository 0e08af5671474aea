/** Adam with L2 weight decay added to the gradient (as torch.optim.Adam's weight_decay), on Float32Arrays. */
import type { Weights } from '../model/parameters.js';

/** The optimiser's moments, saved in checkpoints so a resumed run continues exactly. */
export interface AdamState {
  step: number;
  m: Weights;
  v: Weights;
}

export class Adam {
  private step = 0;
  private readonly m = new Map<string, Float32Array>();
  private readonly v = new Map<string, Float32Array>();

  constructor(
    private readonly beta1 = 0.9,
    private readonly beta2 = 0.999,
    private readonly epsilon = 1e-8,
  ) {}

  /** One update; the GCP kernel and biases are not decayed (decay would pull GCP away from averaging). */
  update(weights: Weights, gradients: Map<string, Float32Array>, learningRate: number, weightDecay: number): void {
    this.step += 1;
    const c1 = 1 - this.beta1 ** this.step;
    const c2 = 1 - this.beta2 ** this.step;
    for (const [name, w] of weights) {
      const g = gradients.get(name)!;
      let m = this.m.get(name);
      let v = this.v.get(name);
      if (!m || !v) {
        m = new Float32Array(w.length);
        v = new Float32Array(w.length);
        this.m.set(name, m);
        this.v.set(name, v);
      }
      const decay = name.endsWith('.weight') && name !== 'gcp.weight' ? weightDecay : 0;
      for (let i = 0; i < w.length; i++) {
        const gi = g[i] + decay * w[i];
        m[i] = this.beta1 * m[i] + (1 - this.beta1) * gi;
        v[i] = this.beta2 * v[i] + (1 - this.beta2) * gi * gi;
        w[i] -= (learningRate * (m[i] / c1)) / (Math.sqrt(v[i] / c2) + this.epsilon);
      }
    }
  }

  save(): AdamState {
    return { step: this.step, m: new Map(this.m), v: new Map(this.v) };
  }

  static restore(state: AdamState): Adam {
    const adam = new Adam();
    adam.step = state.step;
    for (const [k, a] of state.m) adam.m.set(k, Float32Array.from(a));
    for (const [k, a] of state.v) adam.v.set(k, Float32Array.from(a));
    return adam;
  }
}
