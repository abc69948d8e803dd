"""Independent PyTorch forward written the way transformers' LlamaForCausalLM / Qwen2 computes it
(apply_rotary_pos_emb with rotate_half, repeat_kv, q/k weights used as stored): reads our
config.json + model.safetensors with a hand parser and prints max |logit diff| as JSON."""
import json, struct, math, torch
import sys
root = sys.argv[1]
cfg = json.load(open(root + '/config.json'))
raw = open(root + '/model.safetensors','rb').read()
n = struct.unpack('<Q', raw[:8])[0]; hdr = json.loads(raw[8:8+n]); base = 8+n
W = {k: torch.frombuffer(bytearray(raw[base+v['data_offsets'][0]:base+v['data_offsets'][1]]), dtype=torch.float32).reshape(v['shape']) for k,v in hdr.items() if k!='__metadata__'}
ref = json.load(open(root + '/logits.json'))
ids = torch.tensor(ref['ids']); T = len(ids)
d, H, Hkv = cfg['hidden_size'], cfg['num_attention_heads'], cfg['num_key_value_heads']; D = d//H; eps = cfg['rms_norm_eps']
def rms(x,w): return x*torch.rsqrt(x.pow(2).mean(-1,keepdim=True)+eps)*w
inv = 1.0/(cfg['rope_theta']**(torch.arange(0,D,2).float()/D)); ang = torch.arange(T).float()[:,None]*inv[None]
emb = torch.cat([ang,ang],-1); cos, sin = emb.cos(), emb.sin()
def rot(x): x1,x2 = x[...,:D//2], x[...,D//2:]; return torch.cat([-x2,x1],-1)
def fwd(causal):
  x = W['model.embed_tokens.weight'][ids]
  for l in range(cfg['num_hidden_layers']):
    p=f'model.layers.{l}.'
    h = rms(x, W[p+'input_layernorm.weight'])
    q = (h@W[p+'self_attn.q_proj.weight'].T + W[p+'self_attn.q_proj.bias']).view(T,H,D).transpose(0,1)
    k = (h@W[p+'self_attn.k_proj.weight'].T + W[p+'self_attn.k_proj.bias']).view(T,Hkv,D).transpose(0,1)
    v = (h@W[p+'self_attn.v_proj.weight'].T + W[p+'self_attn.v_proj.bias']).view(T,Hkv,D).transpose(0,1)
    q = q*cos + rot(q)*sin; k = k*cos + rot(k)*sin   # HF apply_rotary_pos_emb
    k = k.repeat_interleave(H//Hkv,0); v = v.repeat_interleave(H//Hkv,0)
    s = q@k.transpose(-1,-2)/math.sqrt(D)
    if causal: s = s.masked_fill(torch.triu(torch.ones(T,T,dtype=torch.bool),1), float('-inf'))
    a = (torch.softmax(s,-1)@v).transpose(0,1).reshape(T,d)
    x = x + a@W[p+'self_attn.o_proj.weight'].T
    h = rms(x, W[p+'post_attention_layernorm.weight'])
    x = x + (torch.nn.functional.silu(h@W[p+'mlp.gate_proj.weight'].T)*(h@W[p+'mlp.up_proj.weight'].T))@W[p+'mlp.down_proj.weight'].T
  return rms(x, W['model.norm.weight'])@W['lm_head.weight'].T
out = {}
for name, causal in [('bidir',False),('causal',True)]:
  ours = torch.tensor(ref[name]).view(T,-1)
  out[name] = (fwd(causal)-ours).abs().max().item()
print(json.dumps(out))
